// Test pages' /api requests answered from the test's own servers (a status server, an app
// server) through Playwright's route.fetch, robust to a keep-alive connection closing under it.
import type { Route } from '@playwright/test';

/**
 * Answers the page's request from one of the test's servers at `url`. A reused keep-alive connection that
 * the server closed at that moment resets: tried once more, and if that fails too the page sees
 * a failed request (its polls retry), never an exception in the test's route handler.
 */
export async function relay(route: Route, url: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await route.fulfill({ response: await route.fetch({ url }) });
    } catch {
      if (attempt >= 1) return route.abort('failed').catch(() => undefined); // the page may be gone
    }
  }
}
