import { agentCellMetadata, errorLine, insertionIndex, isAgentCell, markRemoved, recordsOf, resultHead, withRecord, withRemovedCells } from '../records';

describe('records in notebook metadata', () => {
  it('appends records and keeps other kenkyu metadata', () => {
    const first = withRecord(undefined, { prompt: 'a' });
    expect(first).toEqual({ records: [{ prompt: 'a' }] });
    const second = withRecord({ ...first, conversation: { v: 1 } }, { prompt: 'b' });
    expect(second).toEqual({ conversation: { v: 1 }, records: [{ prompt: 'a' }, { prompt: 'b' }] });
    expect(first).toEqual({ records: [{ prompt: 'a' }] }); // never mutated
  });

  it('reads nothing from malformed metadata', () => {
    expect(recordsOf(null)).toEqual([]);
    expect(recordsOf({ records: 'x' })).toEqual([]);
    expect(recordsOf({ records: [1, { prompt: 'a' }] })).toEqual([{ prompt: 'a' }]);
  });

  it('marks the removed cells of a record, once per removed cell', () => {
    const record = {
      prompt: 'p',
      cells: [
        { cell_type: 'code', source: 'a = 1', metadata: { kenkyu: { agent: true } } },
        { cell_type: 'markdown', source: 'note', metadata: {} },
        { cell_type: 'code', source: 'a = 1', metadata: {} }
      ]
    };
    const marked = markRemoved(record, ['a = 1', 'note']);
    const cells = marked['cells'] as any[];
    expect(cells[0].metadata.kenkyu).toEqual({ agent: true, removed: true });
    expect(cells[1].metadata.kenkyu).toEqual({ removed: true });
    expect(cells[2].metadata).toEqual({});
    expect((record.cells[0].metadata as any).kenkyu.removed).toBeUndefined();
  });

  it('marks cells in the right stored record', () => {
    const metadata = { records: [{ cells: [{ source: 'x' }] }, { cells: [{ source: 'x' }] }] };
    const next = withRemovedCells(metadata, 1, ['x']) as any;
    expect(next.records[0].cells[0].metadata).toBeUndefined();
    expect(next.records[1].cells[0].metadata.kenkyu.removed).toBe(true);
  });
});

describe('agent cells', () => {
  it('are recognised by metadata.kenkyu.agent', () => {
    expect(isAgentCell({ kenkyu: { agent: true } })).toBe(true);
    expect(isAgentCell({ kenkyu: { agent: 'yes' } })).toBe(false);
    expect(isAgentCell({})).toBe(false);
  });

  it('always carry the agent mark and their request', () => {
    expect(agentCellMetadata({ kenkyu: { variable: 'rmsd' }, tags: ['a'] }, 'r1')).toEqual({
      kenkyu: { variable: 'rmsd', agent: true, request_id: 'r1' },
      tags: ['a']
    });
  });

  it('go below the cell they follow while it is there, else at the end (never above earlier requests)', () => {
    expect(insertionIndex(['a', 'b', 'c'], 'b')).toBe(2);
    expect(insertionIndex(['a', 'b', 'c'], 'gone')).toBe(3);
    expect(insertionIndex(['a', 'b', 'c'], null)).toBe(3);
    expect(insertionIndex([], null)).toBe(0);
  });
});

describe('errorLine', () => {
  it('is the error as one readable line, without colour codes', () => {
    expect(
      errorLine({ output_type: 'error', ename: 'RunExistsError', evalue: '\u001b[0;31mmd_runs/v exists. Pass resume=True\u001b[0m', traceback: ['long'] })
    ).toBe('RunExistsError: md_runs/v exists. Pass resume=True');
    expect(errorLine({ output_type: 'error', ename: 'KeyboardInterrupt', evalue: '' })).toBe('KeyboardInterrupt');
  });
});

describe('resultHead: a resumed run card shows what its cell computed (newcomer r8)', () => {
  it('takes the first lines of the value the cell showed, Markdown marks dropped', () => {
    const outputs = [
      { output_type: 'stream', name: 'stderr', text: 'MD hp35: 100%' },
      {
        output_type: 'execute_result',
        data: {
          'text/plain': "MDRun(directory=PosixPath('md_runs/v'))",
          'text/markdown': '**MD run md_runs/v (finished)**\n\n596 atoms, implicit solvent, 300.0 K\nproduction: 40 frames'
        }
      }
    ];
    expect(resultHead(outputs)).toBe('MD run md_runs/v (finished)\n596 atoms, implicit solvent, 300.0 K');
  });

  it('is empty when the cell showed no value', () => {
    expect(resultHead([{ output_type: 'stream', name: 'stdout', text: 'done' }])).toBe('');
  });
});
