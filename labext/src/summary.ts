/**
 * How a tool card shows a tool's summary: its first lines, the rest behind "more", and its caveats
 * always in view. A caveat ("caveat: only 4 ps simulated; loop motions take ns–µs, …") says whether the
 * result can answer the question at all; hidden behind "more" it would be missed by the person reading it.
 */

/** Lines of a summary shown before "more" (run summaries list every file they wrote). */
export const SUMMARY_LINES = 2;

const CAVEAT = /^caveat:\s*/i;
// Sections the kernel appends for the model ("Shown:" then the widgets' text): never a card's headline.
const SECTION = /^(?:Printed|Shown|Output before the error):$/;

export interface ISummaryParts {
  head: string[];
  rest: string[];
  caveats: string[];
}

export function summaryParts(text: string, shown: number = SUMMARY_LINES): ISummaryParts {
  const lines = text.trimEnd().split('\n');
  const others = lines.filter(line => !CAVEAT.test(line));
  const section = others.findIndex(line => SECTION.test(line.trim()));
  let cut = Math.min(shown, section > 0 ? section : shown);
  // A headline that ends by introducing what follows ("Start it again with:", "On a machine with internet
  // access run" over indented commands) goes behind the fold with it: left in view over folded code, the card
  // read as cut off (a newcomer's stopped DHFR run, their missing ESM-2 weights).
  if (cut > 1 && cut < others.length && introduces(others[cut - 1], others[cut])) {
    cut -= 1;
  }
  return {
    head: others.slice(0, cut),
    rest: others.slice(cut),
    caveats: lines.filter(line => CAVEAT.test(line)).map(line => line.replace(CAVEAT, ''))
  };
}

function introduces(line: string, next: string): boolean {
  return line.trimEnd().endsWith(':') || /^\s+\S/.test(next);
}

/**
 * The estimate's headline ("about 4 min here") without how it was measured: shown on a running card next
 * to its elapsed time, so a person can tell a slow run from a stuck one after the approval card folds away.
 */
export function estimateHeadline(estimate: string): string {
  return estimate.split(' (')[0].trim();
}
