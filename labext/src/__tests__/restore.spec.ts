import { inCallOrder, restoreFromRecords } from '../restore';

// A newcomer's first request (r10) as the notebook stores it: metadata keys sorted, the cell in call order.
const SOURCE =
  "# using villin_1vii.pdb as structure\nimport kenkyu.tools.md\n\nrun = kenkyu.tools.md.run(\n    structure='villin_1vii.pdb',\n" +
  "    ps=2.0,\n    solvent='implicit',\n    seed=7,\n    report_interval_ps=0.2,\n    resume=True,\n)\nrun";
const RECORD = {
  prompt: "ok let's try a quick simulation of villin, 2 ps in implicit solvent, seed 7",
  messages: [
    { role: 'user', content: 'simulate' },
    {
      role: 'assistant',
      content: '',
      tool_calls: [
        {
          id: 'local_3_0',
          name: 'md_run',
          arguments: { ps: 2, report_interval_ps: 0.2, seed: 7, solvent: 'implicit', structure: 'villin_1vii.pdb' }
        }
      ]
    },
    { role: 'tool', tool_call_id: 'local_3_0', name: 'md_run', content: 'MD run md_runs/villin_1vii_implicit (finished)' }
  ],
  cells: [{ cell_type: 'code', source: SOURCE, metadata: { kenkyu: { agent: true, call_id: 'local_3_0', tool: 'md_run' } }, outputs: [] }]
};

describe('a card restored after a reload', () => {
  it('lists its arguments in the order its cell wrote them, not the sorted order of the saved metadata', () => {
    const { items } = restoreFromRecords([RECORD], []);
    const card = items.find(i => i.kind === 'tool') as any;
    expect(Object.keys(card.arguments)).toEqual(['structure', 'ps', 'solvent', 'seed', 'report_interval_ps']);
  });

  it('keeps names the cell does not write, after the ones it does, and never matches inside a longer name', () => {
    const args = { b: 1, nvt_ps: 3, ps: 2, zeta: 0 };
    expect(Object.keys(inCallOrder(args, 'md.run(ps=2, nvt_ps=3)'))).toEqual(['ps', 'nvt_ps', 'b', 'zeta']);
    expect(Object.keys(inCallOrder(args, ''))).toEqual(['b', 'nvt_ps', 'ps', 'zeta']);
  });
});
