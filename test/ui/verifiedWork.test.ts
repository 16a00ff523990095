// The verified-work words the Dashboard and the Wallet page show for an address: steps a
// window, evidence still gathered, and a dash for a validator that does not report it.
import { describe, expect, it } from 'vitest';
import { verifiedWorkWords } from '../../src/ui/verifiedWork';

describe('verified work in words', () => {
  it('gives the moving average of verified steps, and says when evidence is still being gathered', () => {
    expect(verifiedWorkWords({ workEma: 3.24, gathering: 0 })).toBe('3.2 steps a window');
    expect(verifiedWorkWords({ workEma: 0, gathering: 1 })).toBe('0.0 steps a window, gathering evidence (1 window)');
    expect(verifiedWorkWords({ workEma: 0, gathering: 3 })).toBe('0.0 steps a window, gathering evidence (3 windows)');
  });

  it('shows a dash where a validator does not report it, or reports nonsense', () => {
    expect(verifiedWorkWords({})).toBe('–');
    expect(verifiedWorkWords({ workEma: Number.NaN })).toBe('–');
  });
});
