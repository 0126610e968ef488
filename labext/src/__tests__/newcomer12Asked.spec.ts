/**
 * A question asked in a %%ask cell while the chat is open appears in the chat (newcomer r12): the chat showed
 * the %%ask questions asked before it was opened (the kernel's history in `ready`) and none asked after.
 */
import { INITIAL_STATE, reduce } from '../chatState';
import { parseKernelMessage } from '../protocol';
import { schemaErrors } from './protocolSchema';

const asked = {
  type: 'asked',
  history: [
    { role: 'user', text: 'why did that fail?' },
    { role: 'assistant', text: 'Results:\n- `notebook_tools_explain_error`: Error: IndexError: index 40 is out of bounds' }
  ]
};

describe('a %%ask question asked while the chat is open', () => {
  it('is a message of the protocol, parsed as it was sent', () => {
    expect(schemaErrors(asked, 'kernelMessage')).toEqual([]);
    expect(parseKernelMessage(asked)).toEqual(asked);
  });

  it('is added to the chat after what it already shows, as text of no request', () => {
    let state = reduce(INITIAL_STATE, {
      type: 'ready',
      model: { provider: 'local', model: 'SmolLM2', label: 'local' },
      approval: 'ask',
      tools: [],
      history: [{ role: 'user', text: 'Hi! What can you do?' }]
    });
    state = reduce(state, { type: 'ask', requestId: 'r1', prompt: 'which residues are the floppiest?' });
    state = reduce(state, { type: 'event', requestId: 'r1', event: { kind: 'done', reason: 'finished', steps: 1, tokens: 0, elapsed_s: 1 } });
    const message = parseKernelMessage(asked);
    if (message.type !== 'asked') {
      throw new Error('not parsed as asked');
    }
    state = reduce(state, { type: 'asked', history: message.history });
    const texts = state.items.filter(i => i.kind === 'user' || i.kind === 'assistant').map(i => (i as any).text);
    expect(texts).toEqual([
      'Hi! What can you do?',
      'which residues are the floppiest?',
      'why did that fail?',
      asked.history[1].text
    ]);
    const added = state.items.slice(-2);
    expect(added.map(i => i.requestId)).toEqual([null, null]);
    expect(state.active).toBeNull();
  });
});
