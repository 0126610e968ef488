import { chosenPlace, insertionIndex } from '../records';

// Where a sidebar request's cells go: below the conversation (the end of the notebook) unless the user made room
// for them. After a reload, a newcomer clicked a cell near the top to read it and the next answer landed there.
describe('where a request puts its cells', () => {
  const cells = ['title', 'setup', 'agent-1', 'agent-2', 'mine'];
  const mine = (id: string, source: string) => ({ id, source, kenkyu: undefined });

  it('a cell clicked to read it is no choice: the answer goes at the end', () => {
    const place = chosenPlace('setup', mine('setup', 'import kenkyu\nstructure = "villin.pdb"'));
    expect(place).toBeNull();
    expect(insertionIndex(cells, place)).toBe(cells.length);
  });

  it('an empty cell the user added and left selected is where the answer goes', () => {
    const place = chosenPlace('room', mine('room', '  \n'));
    expect(place).toBe('room');
    expect(insertionIndex(['title', 'room', 'setup'], place)).toBe(2);
  });

  it('an empty cell is a choice only if the user moved to it since the last request, and is still there', () => {
    expect(chosenPlace(null, mine('room', ''))).toBeNull(); // the page opened on it, or the last request used it
    expect(chosenPlace('room', mine('elsewhere', ''))).toBeNull(); // they moved on to read another cell
    expect(chosenPlace('room', null)).toBeNull();
  });

  it("the agent's own cells are never a choice", () => {
    expect(chosenPlace('agent-1', { id: 'agent-1', source: '', kenkyu: { agent: true } })).toBeNull();
  });
});
