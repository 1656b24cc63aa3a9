// The flags every scoring command takes for its metric: three declared ones and the generic
// repeatable --option key=value; all are checked against the metric's card (registry/card.ts).
import type { Command } from 'commander';

const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];

export function metricOptionFlags(c: Command, modelHelp = 'model file (BRISQUE/NIQE), or a deep model manifest path or name'): Command {
  return c
    .option('--variant <name>', 'metric variant')
    .option('--model <path>', modelHelp)
    .option('--range <path>', 'feature range file (BRISQUE)')
    .option('--option <key=value>', 'any option of the metric, repeatable (iqa models show NAME lists them)', collect);
}
