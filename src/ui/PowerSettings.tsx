// The power setting's controls beside the swarm: Light / Medium / Full, the pauses (battery,
// hidden tab, device in use), the screen wake lock, and in words what the trainer does because of them.
import type { ReactNode } from 'react';
import { askIdlePermission, POWER_SHARES, type IdleState, type PowerFlag, type PowerLevel, type PowerState, type WakeLockState } from './usePower';

const LEVEL_WORDS: Record<PowerLevel, string> = { light: 'Light', medium: 'Medium', full: 'Full' };

/** One of the options as a labelled checkbox; `before` runs first when it is checked (a permission prompt). */
function Toggle(p: { power: PowerState; field: PowerFlag; testId: string; before?: () => Promise<unknown>; children: ReactNode }): ReactNode {
  const set = (on: boolean): void => p.power.change({ [p.field]: on });
  return (
    <label>
      <input
        type="checkbox"
        checked={p.power.settings[p.field]}
        onChange={(e) => (e.target.checked && p.before ? void p.before().then(() => set(true)) : set(e.target.checked))}
        data-testid={p.testId}
      />
      {p.children}
    </label>
  );
}

const IDLE_WORDS: Record<IdleState, string> = {
  off: '',
  checking: ' (asking the browser…)',
  idle: ' (idle now: training)',
  active: ' (in use now: resting)',
  unsupported: ' (this browser has no Idle Detection API, so this cannot apply here)',
  denied: ' (the browser refused the idle-detection permission, so this cannot apply)',
};

const WAKE_WORDS: Record<WakeLockState, string> = {
  off: '',
  held: ' (holding: the screen stays on while this tab trains)',
  unsupported: ' (this browser offers no Screen Wake Lock)',
  refused: ' (the browser refused it, e.g. on low battery)',
};

export function PowerSettings({ power, wakeLock }: { power: PowerState; wakeLock: WakeLockState }): ReactNode {
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
      <Toggle power={power} field="pauseOnBattery" testId="power-battery">
        Pause while on battery
        {battery === 'unsupported' && <span className="note"> (this browser does not report the battery, so this cannot apply here)</span>}
      </Toggle>
      <Toggle power={power} field="pauseWhenHidden" testId="power-hidden">
        Pause while this tab is hidden
      </Toggle>
      <Toggle power={power} field="onlyWhenIdle" testId="power-idle" before={askIdlePermission}>
        Only when this device is idle
        <span data-testid="power-idle-state" data-state={power.idle}>
          {IDLE_WORDS[power.idle]}
        </span>
      </Toggle>
      <Toggle power={power} field="keepAwake" testId="power-awake">
        Keep the screen on while training
        <span data-testid="power-wake-lock" data-state={wakeLock}>
          {WAKE_WORDS[wakeLock]}
        </span>
      </Toggle>
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
