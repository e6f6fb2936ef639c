// What `autoresearch help` prints: the whole text, or one command's lines of it.
export const HELP = `autoresearch: an autonomous ML research loop in your repo

Usage: autoresearch <command> [options]

  init                 write a commented autoresearch.config.yaml (detects train.py, prepare.py)
                       [--probe] run the command once and take the metric from what it prints
                       [--budget 5m] (the budget written, and the probe's time limit)  [--tag T] [--force]
                       [--script FILE] the training script, where init cannot tell which one it is
                       with a config here, --probe --force runs its run: and changes only its metric
  run                  start or resume the session  [--max-experiments N] [--proposer KIND] [--policy tree|greedy]
                       [--restart] begin a new attempt (the earlier one stays in the journal); a session
                       whose baseline failed starts a new attempt without it
  status               where the session stands  [--json]
  tree                 the experiment tree, best path marked  [--json]
  show <node>          one experiment: decision, metric, plan, diff against its parent  [--json]
  compare <a> <b>      diff between two experiments' code
  summary [FILE.tsv]   write autoresearch-summary.md from the session, or FILE-summary.md from any results.tsv
                       [--from FILE] (same as a .tsv argument)  [--metric COLUMN] [--direction minimize|maximize]
                       [--out FILE] where a file's summary goes (never over a session's summary)
                       columns are read by header name; the direction is --direction, else the config's,
                       else the metric's name, else the kept rows' trend, and the summary says which
                       [--noise X] the noise floor of a file's runs (how far a seed-only change moves the
                       metric); else it is estimated from the file's seed-only and repeated runs, if any
                       [--json] one JSON document instead of text (the summary file is written too)
  keep <node>          override: keep an experiment (it may be expanded)  [--reason TEXT]
  discard <node>       override: drop an experiment from the search       [--reason TEXT]
  record <node> <value>  record the metric of a manual run  [--memory-gb G] [--crash REASON]
  hint "<text>"        queue a hypothesis for the next proposals
  cap                  the model spend so far against the spend cap; change the cap with
                       [--cost USD|unlimited] [--tokens N|unlimited] (500k, 2M): a running session goes on
                       under it at once, one that ended at its cap goes on with \`autoresearch run\`
  prune on|off         early stopping from now on, whatever the config says; a running session applies it to
                       the experiments running now, a stopped one when it resumes
  apply                bring the best experiment onto your branch  [--chain] (default: one squashed commit)

  help [command]       this text, or one command's

Common options: --config FILE (default autoresearch.config.yaml), --cwd DIR, --help, --version
--json (status, tree, show, summary): one JSON document on stdout, schema autoresearch/<command>@1; an error is
  {"error": {"kind", "message", "exitCode"}} on stdout, with the same exit code (docs/json.md)
Exit codes: 0 done, 1 runtime failure, 2 bad usage or bad config.`;

/** The lines of HELP that describe one command (its line and the indented ones after it), with the usage line. */
export function commandHelp(command: string): string | null {
  const lines = HELP.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^  ${command.replace(/[^\w-]/g, '')}(\\s|$)`).test(l));
  if (start < 0 || !command.trim()) return null;
  const own = [lines[start]!];
  for (let i = start + 1; i < lines.length && /^ {4,}\S/.test(lines[i]!) && lines[i]!.search(/\S/) >= 20; i++) own.push(lines[i]!);
  const common = lines.findIndex((l) => l.startsWith('Common options'));
  const exits = lines.findIndex((l) => l.startsWith('Exit codes'));
  return [`Usage: autoresearch ${command} [options]`, '', ...own, '', ...lines.slice(common, exits + 1)].join('\n');
}
