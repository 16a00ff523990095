// The power setting's controls beside the swarm: Light / Medium / Full, pause on battery, pause
// while hidden, and in words what the trainer is doing now because of them.
import type { ReactNode } from 'react';
import { POWER_SHARES, type PowerLevel, type PowerState } from './usePower';

const LEVEL_WORDS: Record<PowerLevel, string> = { light: 'Light', medium: 'Medium', full: 'Full' };

export function PowerSettings({ power }: { power: PowerState }): ReactNode {
  const { settings, battery } = power;
  return (
    <fieldset className="power" data-testid="power" data-level={settings.level} data-paused={power.pausedBecause ? 'true' : 'false'}>
      <legend>How hard this device works</legend>
      <div className="controls" role="radiogroup" aria-label="Power setting">
        {(Object.keys(POWER_SHARES) as PowerLevel[]).map((level) => (
          <label key={level}>
            <input type="radio" name="power-level" checked={settings.level === level} onChange={() => power.change({ level })} data-testid={`power-${level}`} />
            {LEVEL_WORDS[level]} ({Math.round(100 * POWER_SHARES[level])}% of each window)
          </label>
        ))}
      </div>
      <label>
        <input
          type="checkbox"
          checked={settings.pauseOnBattery}
          onChange={(e) => power.change({ pauseOnBattery: e.target.checked })}
          data-testid="power-battery"
        />
        Pause while on battery
        {battery === 'unsupported' && <span className="note"> (this browser does not report the battery, so this cannot apply here)</span>}
      </label>
      <label>
        <input
          type="checkbox"
          checked={settings.pauseWhenHidden}
          onChange={(e) => power.change({ pauseWhenHidden: e.target.checked })}
          data-testid="power-hidden"
        />
        Pause while this tab is hidden
      </label>
      <p className="note" role="status" data-testid="power-status">
        {power.pausedBecause
          ? `Paused: ${power.pausedBecause}. Training resumes by itself; a window without training sends nothing.`
          : settings.level === 'full'
            ? 'Training through each window.'
            : `Training ${Math.round(100 * POWER_SHARES[settings.level])}% of each window and resting between work units, so the device stays usable; the contribution states the work actually done.`}
      </p>
    </fieldset>
  );
}
