import { shortenedResults } from '../replies';

// Recorded in a newcomer's sidebar (r10): "cool. can you plot the RMSD of that run?" on the embedded model.
const RMSD_CARD =
  'RMSD of 144 atoms (backbone), aligned to frame 0\n10 frames; mean 0.060 nm, final 0.092 nm, max 0.092 nm at 2 ps\n' +
  'data: 10 frames spanning 2 ps of simulation (one every 0.2 ps)\ncaveat: only 2 ps simulated: slower processes ' +
  '(loop and domain motions take ns, folding, unfolding and binding microseconds or more) are not sampled, so this ' +
  'says nothing about them';
const RMSD_REPLY =
  'Results:\n- `analysis_rmsd`: RMSD of 144 atoms (backbone), aligned to frame 0; 10 frames; mean 0.060 nm, final ' +
  '0.092 nm, max 0.092 nm at 2 ps; data: 10 frames spanning 2 ps of simulation (one every 0.2 ps); caveat: only 2 ps ' +
  'simulated: slower processes (loop and domain motions take ns, folding, unfolding and binding microseconds or ' +
  'more) are not sampled, so this says nothing about them\n';

describe('a reply that repeats its cards', () => {
  it('is shortened to a pointer to the card, and does not repeat the caveat the card shows in view', () => {
    const text = shortenedResults(RMSD_REPLY, [{ name: 'analysis_rmsd', summary: RMSD_CARD }]);
    expect(text).toBe('The result is on the card above.');
  });

  it('keeps in view a caveat of the reply that its card does not carry', () => {
    const cardWithout = RMSD_CARD.split('\ncaveat:')[0];
    const text = shortenedResults(RMSD_REPLY, [{ name: 'analysis_rmsd', summary: cardWithout }]);
    expect(text).toBe(
      'The result is on the card above.\n- caveat: only 2 ps simulated: slower processes (loop and domain motions ' +
        'take ns, folding, unfolding and binding microseconds or more) are not sampled, so this says nothing about them'
    );
    expect(text).not.toContain('mean 0.060 nm'); // the numbers are on the card, once
  });

  it('is kept whole when a line is not on a card: a quoted passage, a comparison, another tool', () => {
    const literature =
      'Results:\n- `literature_ask`: 3 passages from /tmp/newcomer10/literature_index for "what do my notes say?" ' +
      '[1] "Villin headpiece (HP35), my reading notes", villin.md: “# Villin headpiece ...”';
    expect(shortenedResults(literature, [{ name: 'literature_ask', summary: 'Answer from 3 passages\n[1] villin.md' }])).toBeNull();
    const compared = `${RMSD_REPLY}\nComparison (side by side, as each tool reported it):\n- \`analysis_rmsd\` of a: 0.06 nm`;
    expect(shortenedResults(compared, [{ name: 'analysis_rmsd', summary: RMSD_CARD }])).toBeNull();
    expect(shortenedResults(RMSD_REPLY, [{ name: 'analysis_rmsf', summary: RMSD_CARD }])).toBeNull();
    expect(shortenedResults('The RMSD stays below 0.1 nm.', [{ name: 'analysis_rmsd', summary: RMSD_CARD }])).toBeNull();
  });

  it('says "cards" for several, and a failed tool\'s error line counts as its card', () => {
    const failed = 'ERROR: ValueError: RMSF needs at least 2 frames and the window (all 1 frames) has 1.';
    const reply = `Results:\n- \`analysis_rmsd\`: RMSD of 144 atoms (backbone), aligned to frame 0; 10 frames\n- \`analysis_rmsf\`: ${failed}`;
    expect(
      shortenedResults(reply, [
        { name: 'analysis_rmsd', summary: RMSD_CARD },
        { name: 'analysis_rmsf', summary: failed }
      ])
    ).toBe('The results are on the cards above.');
  });
});
