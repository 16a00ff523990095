// Shows what this visitor's GPU offers training, or why WebGPU is unavailable and what to do.
import type { ReactNode } from 'react';
import { formatLimit, type CapabilityReport as Report, type Explanation } from '../gpu/capabilities';
import { HeadRow, TableScroll } from './TableScroll';
import { useWebGpuProbe } from './useWebGpuProbe';

export function CapabilityReport(): ReactNode {
  const probe = useWebGpuProbe();
  if (probe.status === 'checking') {
    return (
      <section className="card" aria-busy="true" data-testid="gpu-checking">
        <h2>Checking your GPU…</h2>
      </section>
    );
  }
  if (probe.status === 'unavailable') return <Unavailable explanation={probe.explanation} />;
  return <Ready report={probe.report} />;
}

function Unavailable(props: { explanation: Explanation }): ReactNode {
  const { explanation } = props;
  return (
    <section className="card card-warning" role="alert" data-testid="gpu-unavailable" data-reason={explanation.reason}>
      <h2>{explanation.title}</h2>
      <p>{explanation.detail}</p>
      <h3>What you can do</h3>
      <ul>
        {explanation.actions.map((a) => (
          <li key={a}>{a}</li>
        ))}
      </ul>
    </section>
  );
}

function Ready(props: { report: Report }): ReactNode {
  const { adapter, limits, features, canTrain } = props.report;
  const name = [adapter.vendor, adapter.architecture].filter((s) => s && s !== 'unknown').join(' · ') || 'unnamed adapter';
  return (
    <section className="card" data-testid="gpu-report">
      <h2>
        Your GPU: <span data-testid="adapter-name">{name}</span>
      </h2>
      <p className={canTrain ? 'ok' : 'bad'}>
        {canTrain ? 'This GPU can train Tessera models.' : 'This GPU is below the minimum for training (see the limits marked below).'}
      </p>
      {adapter.isFallbackAdapter && <p className="note">This is a software (fallback) adapter: it works, but slowly.</p>}
      <dl className="facts">
        <dt>Vendor</dt>
        <dd data-testid="adapter-vendor">{adapter.vendor}</dd>
        <dt>Architecture</dt>
        <dd data-testid="adapter-architecture">{adapter.architecture}</dd>
        {adapter.description && (
          <>
            <dt>Description</dt>
            <dd>{adapter.description}</dd>
          </>
        )}
      </dl>
      <TableScroll label="Limits that matter to training">
        <table>
          <caption>Limits that matter to training</caption>
          <HeadRow columns={['Limit', 'This GPU', 'Needed']} />
          <tbody>
            {limits.map((l) => (
              <tr key={l.key} data-testid={`limit-${l.key}`}>
                <th scope="row">{l.label}</th>
                <td>{formatLimit(l.value, l.unit)}</td>
                <td className={l.ok ? 'ok' : 'bad'}>
                  {formatLimit(l.minimum, l.unit)} {l.ok ? '✓' : '✗ too low'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroll>
      <h3>Optional features</h3>
      <ul className="features">
        {features.map((f) => (
          <li key={f.key} data-testid={`feature-${f.key}`} data-present={f.present}>
            <span aria-hidden="true">{f.present ? '✓' : '–'}</span> {f.label}: {f.present ? 'yes' : 'no'}
          </li>
        ))}
      </ul>
    </section>
  );
}
