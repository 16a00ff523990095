// The default page: what Tessera is, training on this visitor's GPU, and what the GPU offers.
import type { ReactNode } from 'react';
import { CapabilityReport } from '../CapabilityReport';
import { SwarmPanel } from '../SwarmPanel';
import { TrainerPanel } from '../TrainerPanel';
import { ValidatorPanel } from '../ValidatorPanel';

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
      <TrainerPanel />
      <CapabilityReport />
      <ValidatorPanel />
    </>
  );
}
