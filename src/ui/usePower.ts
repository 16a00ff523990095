// The volunteer's power setting, as BOINC and Folding@home offer it: Light, Medium or Full share
// of each window spent training, and pauses on battery, while the tab is hidden or while the
// device is in use (Idle Detection); remembered per browser.
import { useEffect, useMemo, useState } from 'react';
import type { Effort } from '../swarm/windowTrainer';

export type PowerLevel = 'light' | 'medium' | 'full';

/** The share of each window the trainer works at each level (it rests between units otherwise). */
export const POWER_SHARES: Record<PowerLevel, number> = { light: 0.25, medium: 0.5, full: 1 };

export interface PowerSettings {
  level: PowerLevel;
  pauseOnBattery: boolean;
  pauseWhenHidden: boolean;
  /** Hold a Screen Wake Lock while training, so a laptop does not sleep mid-window. */
  keepAwake: boolean;
  /** Train only while nobody uses the device (no input for a minute, or the screen locked): BOINC's "suspend when in use". */
  onlyWhenIdle: boolean;
}

/** The settings that are on/off options (every one but the level). */
export type PowerFlag = Exclude<keyof PowerSettings, 'level'>;

export interface PowerState {
  settings: PowerSettings;
  effort: Effort;
  /** Why training is paused, in words; undefined while it runs. */
  pausedBecause?: string;
  /** What the Battery Status API says here: 'unsupported' where the browser does not offer it. */
  battery: 'checking' | 'charging' | 'discharging' | 'unsupported';
  /** What the Idle Detection API says while "only when idle" is on. */
  idle: IdleState;
  change(settings: Partial<PowerSettings>): void;
}

const KEY = 'tessera.power.v1';
const DEFAULTS: PowerSettings = { level: 'full', pauseOnBattery: true, pauseWhenHidden: false, keepAwake: false, onlyWhenIdle: false };

/** Stored settings, each field checked: a hand-edited or older value falls back to the default. */
export function loadPowerSettings(storage: Pick<Storage, 'getItem'> = localStorage): PowerSettings {
  try {
    const raw = JSON.parse(storage.getItem(KEY) ?? '{}') as Partial<Record<keyof PowerSettings, unknown>>;
    const flag = (name: PowerFlag): boolean => (typeof raw[name] === 'boolean' ? raw[name] : DEFAULTS[name]);
    return {
      level: typeof raw.level === 'string' && raw.level in POWER_SHARES ? (raw.level as PowerLevel) : DEFAULTS.level,
      pauseOnBattery: flag('pauseOnBattery'),
      pauseWhenHidden: flag('pauseWhenHidden'),
      keepAwake: flag('keepAwake'),
      onlyWhenIdle: flag('onlyWhenIdle'),
    };
  } catch {
    return DEFAULTS;
  }
}

interface BatteryLike extends EventTarget {
  charging: boolean;
}

/** The battery's charging state, followed through 'chargingchange'. */
const batteryApi = (): (() => Promise<BatteryLike>) | undefined => {
  const getBattery = (navigator as Navigator & { getBattery?: () => Promise<BatteryLike> }).getBattery;
  return typeof getBattery === 'function' ? getBattery : undefined;
};

function useBattery(): PowerState['battery'] {
  const [state, setState] = useState<PowerState['battery']>(() => (batteryApi() ? 'checking' : 'unsupported'));
  useEffect(() => {
    const getBattery = batteryApi();
    if (!getBattery) return;
    let battery: BatteryLike | undefined;
    const update = (): void => setState(battery?.charging ? 'charging' : 'discharging');
    getBattery
      .call(navigator)
      .then((b) => {
        battery = b;
        update();
        b.addEventListener('chargingchange', update);
      })
      .catch(() => setState('unsupported'));
    return () => battery?.removeEventListener('chargingchange', update);
  }, []);
  return state;
}

function useHidden(): boolean {
  const [hidden, setHidden] = useState(() => document.visibilityState === 'hidden');
  useEffect(() => {
    const update = (): void => setHidden(document.visibilityState === 'hidden');
    document.addEventListener('visibilitychange', update);
    return () => document.removeEventListener('visibilitychange', update);
  }, []);
  return hidden;
}

export type IdleState = 'off' | 'checking' | 'idle' | 'active' | 'unsupported' | 'denied';

interface IdleDetectorLike extends EventTarget {
  userState: 'active' | 'idle' | null;
  screenState: 'locked' | 'unlocked' | null;
  start(options: { threshold: number; signal: AbortSignal }): Promise<void>;
}

interface IdleDetectorApi {
  new (): IdleDetectorLike;
  requestPermission(): Promise<'granted' | 'denied'>;
}

const idleApi = (): IdleDetectorApi | undefined => (globalThis as { IdleDetector?: IdleDetectorApi }).IdleDetector;

/** The API's shortest threshold: a minute without input counts as idle. */
const IDLE_THRESHOLD_MS = 60_000;

/**
 * Asks for the Idle Detection permission. The browser grants it only from a user gesture, so
 * the checkbox calls this from its click; resolves once the visitor has answered (or at once).
 */
export function askIdlePermission(): Promise<unknown> {
  return (
    idleApi()
      ?.requestPermission()
      .catch(() => 'denied') ?? Promise.resolve()
  );
}

function useUserIdle(wanted: boolean): IdleState {
  // The detector's answer; none yet reads as 'checking' while wanted.
  const [answer, setAnswer] = useState<'idle' | 'active' | 'denied' | undefined>(undefined);
  useEffect(() => {
    const Api = idleApi();
    if (!wanted || !Api) return;
    const stop = new AbortController();
    const detector = new Api();
    const update = (): void => setAnswer(detector.userState === 'idle' || detector.screenState === 'locked' ? 'idle' : 'active');
    detector.addEventListener('change', update);
    detector.start({ threshold: IDLE_THRESHOLD_MS, signal: stop.signal }).then(update, () => !stop.signal.aborted && setAnswer('denied'));
    return () => {
      stop.abort();
      detector.removeEventListener('change', update);
      setAnswer(undefined);
    };
  }, [wanted]);
  if (!wanted) return 'off';
  return idleApi() ? (answer ?? 'checking') : 'unsupported';
}

/** Why training rests now, first reason first; undefined while it may run. */
function pauseReason(settings: PowerSettings, battery: PowerState['battery'], hidden: boolean, idle: IdleState): string | undefined {
  if (settings.pauseOnBattery && battery === 'discharging') return 'this device is on battery';
  if (settings.pauseWhenHidden && hidden) return 'this tab is hidden';
  // Until the detector has answered, assume someone is there: "only when idle" must not start training early.
  if (settings.onlyWhenIdle && (idle === 'active' || idle === 'checking')) return 'this device is in use (training runs after a minute without input)';
  return undefined;
}

export function usePower(): PowerState {
  const [settings, setSettings] = useState(() => loadPowerSettings());
  const battery = useBattery();
  const hidden = useHidden();
  const idle = useUserIdle(settings.onlyWhenIdle);
  const pausedBecause = pauseReason(settings, battery, hidden, idle);
  const share = POWER_SHARES[settings.level];
  const paused = pausedBecause !== undefined;
  // One object per (share, paused): the swarm re-sends it to the trainer only when it changes.
  const effort = useMemo(() => ({ share, paused }), [share, paused]);
  return {
    settings,
    battery,
    idle,
    pausedBecause,
    effort,
    change: (patch) =>
      setSettings((s) => {
        const next = { ...s, ...patch };
        localStorage.setItem(KEY, JSON.stringify(next));
        return next;
      }),
  };
}

export type WakeLockState = 'off' | 'held' | 'unsupported' | 'refused';

interface WakeLockLike {
  release(): Promise<void>;
  addEventListener(type: 'release', listener: () => void): void;
}

/**
 * Holds a screen wake lock while `wanted`. The browser drops it when the tab is hidden, so it is
 * asked for again each time the tab is shown.
 */
export function useWakeLock(wanted: boolean): WakeLockState {
  const api = (navigator as Navigator & { wakeLock?: { request(type: 'screen'): Promise<WakeLockLike> } }).wakeLock;
  const [state, setState] = useState<WakeLockState>('off');
  useEffect(() => {
    if (!wanted || !api) return;
    let lock: WakeLockLike | undefined;
    // A request still answering: a second one (the tab shown again meanwhile) would leave the first lock unreleased.
    let asking = false;
    let done = false;
    const acquire = (): void => {
      if (document.visibilityState !== 'visible' || lock || asking) return;
      asking = true;
      api.request('screen').then(
        (l) => {
          asking = false;
          if (done) return void l.release();
          lock = l;
          setState('held');
          l.addEventListener('release', () => {
            lock = undefined;
            if (!done) setState('off');
          });
        },
        () => {
          asking = false;
          if (!done) setState('refused');
        },
      );
    };
    acquire();
    document.addEventListener('visibilitychange', acquire);
    return () => {
      done = true;
      document.removeEventListener('visibilitychange', acquire);
      void lock?.release();
      setState('off');
    };
  }, [wanted, api]);
  return api ? state : 'unsupported';
}
