/**
 * How a tool card shows a tool's summary: its first lines, the rest behind "more", and its caveats
 * always in view. A caveat ("caveat: only 4 ps simulated; loop motions take ns–µs, …") says whether the
 * result can answer the question at all; hidden behind "more" it would be missed by the person reading it.
 */

/** Lines of a summary shown before "more" (run summaries list every file they wrote). */
export const SUMMARY_LINES = 2;

const CAVEAT = /^caveat:\s*/i;

export interface ISummaryParts {
  head: string[];
  rest: string[];
  caveats: string[];
}

export function summaryParts(text: string, shown: number = SUMMARY_LINES): ISummaryParts {
  const lines = text.trimEnd().split('\n');
  const others = lines.filter(line => !CAVEAT.test(line));
  return {
    head: others.slice(0, shown),
    rest: others.slice(shown),
    caveats: lines.filter(line => CAVEAT.test(line)).map(line => line.replace(CAVEAT, ''))
  };
}
