// For run operators: run a validator in this tab with a validator key file (read locally, never
// uploaded), and watch each window's verdicts with their reasons.
import { useEffect, useState, type ChangeEvent, type ReactNode } from 'react';
import type { RunConfig } from '../protocol/runConfig';
import { HeadRow, TableScroll } from './TableScroll';
import { fetchPublishedRun } from './useSwarm';
import { useValidatorRole } from './useValidatorRole';

export function ValidatorPanel(): ReactNode {
  const v = useValidatorRole();
  const [published, setPublished] = useState<{ run: RunConfig; signal?: string } | undefined>();
  const [secret, setSecret] = useState<string | undefined>();
  useEffect(() => {
    fetchPublishedRun().then(setPublished, () => setPublished(undefined));
  }, []);
  if (!published) return null;
  const onFile = (e: ChangeEvent<HTMLInputElement>): void => {
    const file = e.target.files?.[0];
    if (file) void file.text().then(setSecret);
  };
  const signal = published.signal ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/signal`;
  return (
    <details className="card" data-testid="validator-panel" data-status={v.status}>
      <summary>Run a validator in this tab (run operators)</summary>
      <p className="note">
        Choose the validator’s key file (it stays in this tab). The tab checks and scores every contribution, signs the manifests and follows the swarm’s model;
        it keeps no ledger, so weights are not recorded (use <code>tessera validator</code> for that).
      </p>
      <div className="controls">
        <label>
          Key file <input type="file" onChange={onFile} data-testid="validator-key" />
        </label>
        {v.status === 'running' ? (
          <button type="button" onClick={v.stop}>
            Stop validating
          </button>
        ) : (
          <button
            type="button"
            disabled={!secret || v.status === 'starting'}
            onClick={() => secret && v.start(published.run, signal, secret)}
            data-testid="validator-start"
          >
            Start validating
          </button>
        )}
      </div>
      {v.error && (
        <p className="bad" role="alert">
          {v.error}
        </p>
      )}
      {v.publicKey && (
        <p role="status">
          Key {v.publicKey.slice(0, 16)}… · scoring with {v.scoring}
        </p>
      )}
      {v.windows.length > 0 && (
        <TableScroll label="Windows this tab validated">
          <table data-testid="validator-windows">
            <HeadRow columns={['Window', 'Accepted', 'Refused (reason)', 'θ hash']} />
            <tbody>
              {v.windows.map((w) => (
                <tr key={w.window} data-window={w.window} data-hash={w.hash}>
                  <td>{w.window}</td>
                  <td>{w.accepted}</td>
                  <td>
                    {w.verdicts
                      .filter((x) => !x.accepted)
                      .map((x) => `${x.address.slice(0, 8)}…: ${x.code}`)
                      .join('; ') || '–'}
                  </td>
                  <td>
                    <code>{w.hash.slice(0, 12)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}
    </details>
  );
}
