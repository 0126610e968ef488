/**
 * The embedded model's reply after tools ran is "Results:" and one line per tool: the tool's own summary,
 * verbatim (a 135M model would get the numbers wrong). In the notebook that line is the record; in the chat it
 * sits right under the card that shows the same summary, so every request read twice over (newcomer r10: the
 * sidebar was twice as long as it needed to be). Such a reply is shortened to a pointer to the cards and the
 * caveats it carries, which say whether the result can answer the question and so stay in view: a caveat its
 * card already shows in view (summary.ts keeps every caveat out of the fold) is not said again right under it
 * (newcomer r11: each DHFR analysis showed its 1 ps caveat twice, one above the other).
 */

import { summaryParts } from './summary';

export interface ICardText {
  name: string;
  summary: string;
}

const BULLET = /^[-*]\s*`([\w.-]+)`:\s*(.*)$/;
// How much of a line has to match the card: the reply cuts long lines and says a repeated one "(as above)".
const COMPARED = 120;

function flattened(text: string): string {
  return text
    .split('\n')
    .map(line => line.trim().replace(/^[-*]\s*/, ''))
    .filter(Boolean)
    .join('; ')
    .replace(/\s+/g, ' ');
}

/** The caveats of a "Results:" line ("...; caveat: only 2 ps simulated: ..."), each once. */
function caveatsOf(lines: string[]): string[] {
  const found: string[] = [];
  for (const line of lines) {
    for (const part of line.split(/;\s+(?=caveat:)/i).slice(1)) {
      const caveat = part.replace(/^caveat:\s*/i, '').trim();
      if (caveat && !found.includes(caveat)) {
        found.push(caveat);
      }
    }
  }
  return found;
}

/**
 * The chat's text for a reply that only repeats its request's cards, or null to show the reply as it is
 * (anything else in it, a comparison, a line no card shows).
 */
export function shortenedResults(text: string, cards: ICardText[]): string | null {
  const lines = text
    .trim()
    .split('\n')
    .map(line => line.trim())
    .filter(Boolean);
  if (lines[0] !== 'Results:' || lines.length < 2) {
    return null;
  }
  const said: string[] = [];
  for (const line of lines.slice(1)) {
    const bullet = BULLET.exec(line);
    if (!bullet) {
      return null;
    }
    const head = bullet[2].replace(/\s+/g, ' ').split(/;\s+caveat:/i)[0].slice(0, COMPARED);
    if (!cards.some(card => card.name === bullet[1] && flattened(card.summary).includes(head))) {
      return null;
    }
    said.push(bullet[2]);
  }
  const onCards = new Set(cards.flatMap(card => summaryParts(card.summary).caveats.map(caveat => caveat.trim())));
  const caveats = caveatsOf(said).filter(caveat => !onCards.has(caveat));
  const pointer = said.length === 1 ? 'The result is on the card above.' : 'The results are on the cards above.';
  return [pointer, ...caveats.map(caveat => `- caveat: ${caveat}`)].join('\n');
}
