// The default page: what Tessera is, joining the swarm with a power setting, the swarm's model to
// try, and apart from it, solo training on this GPU and what the GPU offers.
import { useState, type ReactNode } from 'react';
import { CapabilityReport } from '../CapabilityReport';
import { SharedModel } from '../SharedModel';
import { SwarmPanel } from '../SwarmPanel';
import { TrainerPanel } from '../TrainerPanel';
import { TryModel } from '../TryModel';
import { ValidatorPanel } from '../ValidatorPanel';

/** Solo training, collapsed and apart: it is an experiment, not the swarm's work, and its worker opens the GPU only when shown. */
function Experiment(): ReactNode {
  const [open, setOpen] = useState(false);
  return (
    <details className="card experiment" data-testid="experiment" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary data-testid="experiment-toggle">Experiment on this GPU: train a model alone, apart from the swarm</summary>
      {open && <TrainerPanel />}
    </details>
  );
}

export function VolunteerPage(): ReactNode {
  return (
    <>
      <section className="intro">
        <h1>Help train a language model from this tab</h1>
        <p>
          Tessera trains one shared language model on volunteers' GPUs. Your browser trains small batches with WebGPU, trades compressed updates with other
          volunteers directly, and a validator checks that every contribution helps.
        </p>
      </section>
      <SwarmPanel />
      <SharedModel />
      <TryModel />
      <Experiment />
      <CapabilityReport />
      <ValidatorPanel />
    </>
  );
}
