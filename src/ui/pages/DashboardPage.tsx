// Viewers' page. The swarm and its figures do not exist yet; the page says so rather than
// drawing charts of nothing.
import type { ReactNode } from 'react';

export function DashboardPage(): ReactNode {
  return (
    <section>
      <h1>Dashboard</h1>
      <p>The live view of the training run: loss curves, peers, throughput, bandwidth, accepted and rejected contributions, and validator scores.</p>
      <p className="note" data-testid="not-available">
        No swarm runs in this build yet, so there is nothing to show.
      </p>
    </section>
  );
}
