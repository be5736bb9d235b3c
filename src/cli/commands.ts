/**
 * The one-line summary of each subcommand, in a module that loads nothing: `ckpt --help` lists
 * every command from here, and each command module uses the same line for its own help.
 */
export const SUMMARY = {
  demo: 'train a small TensorFlow.js model with a top-k + save_last policy into ./checkpoints, printing every decision',
  conformance: "replay a framework's recorded scenarios (Lightning, Keras, Orbax or transformers, as the set's manifest says) and report every difference",
  simulate: 'replay a checkpoint policy on the metrics of a finished (or running) training run',
  compare: 'replay several checkpoint policies on the same log and compare their figures side by side',
  recommend: 'search a grid of checkpoint policies over your runs: the Pareto frontier of peak storage against regret, ready to paste',
  serve: 'answer loop events (JSON lines on stdin) with checkpoint decisions (JSON lines on stdout), for loops in any language',
  audit: 'check a run: its decision log against the policy, and storage against the log',
  explain: 'every decision in plain sentences: what was saved, removed or linked and why, and why nothing was',
} as const;

export type CommandName = keyof typeof SUMMARY;

/** Each command's arguments as `ckpt --help` lists them (its own --help lists its options too). */
export const ARGUMENTS: Record<CommandName, string> = {
  demo: '',
  conformance: '<dir>',
  simulate: '<log...>',
  compare: '<policies-and-log...>',
  recommend: '<log...>',
  serve: '',
  audit: '[command]',
  explain: '<input>',
};
