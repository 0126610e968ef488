/**
 * How a tool card shows a tool's summary: its first lines, the rest behind "more", and its caveats
 * always in view. A caveat ("caveat: only 4 ps simulated; loop motions take ns–µs, …") says whether the
 * result can answer the question at all; hidden behind "more" it would be missed by the person reading it.
 */

/** Lines of a summary shown before "more" (run summaries list every file they wrote). */
export const SUMMARY_LINES = 2;

const CAVEAT = /^caveat:\s*/i;
// notebook_tools.overview's headline.
const OVERVIEW = /^Notebook overview \(working folder /;
// notebook_tools.explain_error's third line, after the error and the failing line.
const FIX = /^likely fix:/i;
// md.compare_backends' answer, after its set-up line and the two timings: "dataflow runs at 1.17x OpenMM CPU's speed
// (faster; median of the repeats), 3 interleaved repeats ranging 0.95-1.17x". Folded, the card of "is the dataflow
// backend faster here?" showed two ms/step figures and hid the answer and its spread (newcomer r12).
const VERDICT = /^\S+ runs at [\d.]+x /;
// Sections the kernel appends for the model ("Shown:" then the widgets' text): never a card's headline.
const SECTION = /^(?:Printed|Shown|Output before the error):$/;

export interface ISummaryParts {
  head: string[];
  rest: string[];
  caveats: string[];
}

// A literature answer's passages: "[1] "Title", file.md (score 0.03)" over a fenced quote.
const FIRST_PASSAGE = /^\[1\] /;
const FENCE = /^```/;

export function summaryParts(text: string, shown: number = SUMMARY_LINES): ISummaryParts {
  const lines = text.trimEnd().split('\n');
  const others = lines.filter(line => !CAVEAT.test(line));
  const passages = passagesFirst(others);
  if (passages) {
    return { ...passages, caveats: lines.filter(line => CAVEAT.test(line)).map(line => line.replace(CAVEAT, '')) };
  }
  // "What's in this notebook?" is answered by the whole overview (variables, runs, files, documents, the last
  // error, a line each): folded after the variables, the card looked like the answer was only those (newcomer r11).
  const caveats = lines.filter(line => CAVEAT.test(line)).map(line => line.replace(CAVEAT, ''));
  if (OVERVIEW.test(others[0] ?? '')) {
    return { head: others, rest: [], caveats };
  }
  const section = others.findIndex(line => SECTION.test(line.trim()));
  let cut = Math.min(shown, section > 0 ? section : shown);
  // An explained error's fix answers the question ("why did my last cell fail?"): folded behind the error and
  // its failing line it was missed (newcomer r11), so the head runs through it.
  const fix = others.findIndex(line => FIX.test(line));
  if (fix >= cut && fix <= shown && (section < 0 || fix < section)) {
    cut = fix + 1;
  }
  // So does a comparison's verdict, when it is the line just past the fold.
  const verdict = others.findIndex(line => VERDICT.test(line));
  if (verdict >= cut && verdict <= shown && (section < 0 || verdict < section)) {
    cut = verdict + 1;
  }
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

/**
 * The head of a card that quotes passages (literature_ask): the top passage, where it is from and what it
 * says. Its first lines echo the question and, with a model that writes no answer, say so: a newcomer read
 * "... does not write answers" over a fold holding the answer and took it for nothing found (newcomer r8).
 */
function passagesFirst(lines: string[]): { head: string[]; rest: string[] } | null {
  const at = lines.findIndex(line => FIRST_PASSAGE.test(line));
  if (at < 0 || !FENCE.test(lines[at + 1] ?? '')) {
    return null;
  }
  const end = lines.findIndex((line, i) => i > at + 1 && FENCE.test(line));
  const quoted = lines.slice(at + 2, end < 0 ? undefined : end).join(' ').trim();
  if (!quoted) {
    return null;
  }
  const count = lines.find(line => /^\d+ passages? from /.test(line));
  const head = [...(count ? [count.replace(/ \(.*$/, '').replace(/ for ".*$/, '') + ':'] : []), lines[at], quoted];
  return { head, rest: lines.filter((line, i) => line !== count && (i < at || i > (end < 0 ? lines.length : end))) };
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
