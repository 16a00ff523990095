// The Wallet page's record of one address, window by window, from the validator's ledger
// (/api/status/address): the score its accepted work earned, and what was accepted or refused.
import { useMemo, type ReactNode } from 'react';
import type { Aligned } from './charts/downsample';
import { SeriesChart, type SeriesSpec } from './charts/SeriesChart';
import { HeadRow, TableScroll } from './TableScroll';
import { useAddressHistory } from './useAddressHistory';

const SERIES: SeriesSpec[] = [
  { label: 'score (loss removed, %)', color: 'green' },
  { label: 'accepted', color: 'blue', scale: 'count', dash: [6, 4] },
  { label: 'refused', color: 'red', scale: 'count', dash: [2, 3] },
];

export function ScoreHistory({ address }: { address: string }): ReactNode {
  const { history, error } = useAddressHistory(address);
  const windows = useMemo(() => history?.windows ?? [], [history]);
  const data = useMemo(
    (): Aligned => [
      windows.map((w) => w.window),
      windows.map((w) => (w.score === null ? null : 100 * w.score)),
      windows.map((w) => w.accepted),
      windows.map((w) => w.rejected),
    ],
    [windows],
  );
  return (
    <section
      className="card"
      aria-labelledby="score-title"
      data-testid="wallet-history"
      data-address={address}
      data-loaded={history ? 'true' : 'false'}
      data-windows={windows.length}
    >
      <h2 id="score-title">Score history</h2>
      {!history && !error && <p className="note">Loading this address’s record…</p>}
      {error && (
        <p className={history ? 'note bad' : 'note'} role="status" data-testid="wallet-history-error">
          {history ? `Not updated (${error}); showing the last record received.` : `No record from the validator (${error}).`}
        </p>
      )}
      {history && windows.length === 0 && <p className="note">The validator has decided no contribution from this address yet.</p>}
      {windows.length > 0 && (
        <>
          <SeriesChart
            title="This address by window"
            xLabel="window"
            yLabels={{ y: 'score (%)', count: 'contributions' }}
            series={SERIES}
            data={data}
            testId="wallet-history-chart"
          />
          <TableScroll label="Latest windows of this address">
            <table data-testid="wallet-history-table">
              <caption>Latest windows</caption>
              <HeadRow columns={['Window', 'Accepted', 'Refused', 'Score', 'Verdicts']} />
              <tbody>
                {windows
                  .slice(-10)
                  .reverse()
                  .map((w) => (
                    <tr key={w.window} data-window={w.window}>
                      <td>{w.window}</td>
                      <td>{w.accepted}</td>
                      <td>{w.rejected}</td>
                      <td>{w.score === null ? 'not scored' : `${(100 * w.score).toFixed(2)}%`}</td>
                      <td>{w.codes.join(', ')}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </TableScroll>
        </>
      )}
    </section>
  );
}
