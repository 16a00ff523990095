// What joining costs, said once before a volunteer's first Join: GPU time (the power setting),
// bytes per window (the run's compressed payloads), and the memory and storage the tab uses.
import { useState, type ReactNode } from 'react';
import { chunkPlan } from '../compress/chunks';
import { maxPayloadBytes } from '../compress/sparseloco';
import { receiptPlan } from '../compress/workPayload';
import { estimateMemory } from '../gpu/memoryPlan';
import { paramLayout } from '../model/layout';
import { runModelConfig, type RunConfig } from '../protocol/runConfig';

const KEY = 'tessera.firstVisitSeen.v1';

/** The vocabulary bounds the model's size before the corpus is read: char and byte runs have at most 256 symbols. */
const vocabBound = (run: RunConfig): number => (run.tokenizer === 'gpt2' ? 50_257 : 256);

const size = (bytes: number): string => (bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${Math.ceil(bytes / 1e3)} kB`);

/** At most: the run's model, its per-window upload (the update plus one receipt per unit), the model's bytes, GPU memory. */
export function joiningCosts(run: RunConfig): { parameters: number; upload: number; receipt: number; model: number; gpu: number } {
  const config = runModelConfig(run, vocabBound(run));
  const layout = paramLayout(config);
  return {
    parameters: layout.parameterCount,
    upload: maxPayloadBytes(chunkPlan(layout)),
    receipt: maxPayloadBytes(receiptPlan(layout)),
    model: 4 * layout.totalFloats,
    gpu: estimateMemory(config, { batchSize: run.batchSize, seqLen: run.seqLen, microSteps: 1 }).total,
  };
}

export function FirstVisitNote({ run, share }: { run: RunConfig; share: number }): ReactNode {
  const [seen, setSeen] = useState(() => localStorage.getItem(KEY) === 'yes');
  if (seen) return null;
  const c = joiningCosts(run);
  return (
    <aside className="card note-card" data-testid="first-visit" aria-label="What joining uses">
      <h3>What joining uses</h3>
      <ul>
        <li>
          This device’s GPU for {Math.round(100 * share)}% of each {run.windowMs / 1000}-second window (the power setting below), training a model of at most{' '}
          {(c.parameters / 1e6).toFixed(2)}M parameters.
        </li>
        <li>
          Per window, at most {size(c.upload)} sent for its update{run.unitSteps ? ` plus ${size(c.receipt)} per work unit` : ''}, and about as much received
          for each contribution the window’s manifest applies; a newcomer first downloads the current model ({size(c.model)}) from its neighbours.
        </li>
        <li>
          About {size(c.gpu)} of GPU memory while joined, and a copy of the model in the page. Storage: only this browser’s session key, its settings and its
          totals.
        </li>
      </ul>
      <button
        type="button"
        onClick={() => {
          localStorage.setItem(KEY, 'yes');
          setSeen(true);
        }}
        data-testid="first-visit-ok"
      >
        Understood
      </button>
    </aside>
  );
}
