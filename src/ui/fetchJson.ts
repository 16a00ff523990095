// Reads a JSON API of this server (/api/status…) and says plainly what went wrong: an HTML
// page where JSON was expected means the server relays no validator, not a parse error.

export async function fetchJson(path: string): Promise<unknown> {
  const r = await fetch(path);
  const type = r.headers.get('content-type') ?? '';
  if (!type.includes('application/json')) {
    throw new Error(
      r.ok
        ? `${path} answered with ${type.split(';')[0] || 'no content type'}, not JSON: this server relays no validator status`
        : `${path} answered ${r.status}`,
    );
  }
  const body: unknown = await r.json();
  if (!r.ok) {
    const error =
      typeof body === 'object' && body !== null && 'error' in body ? String((body as { error: unknown }).error).slice(0, 300) : `status ${r.status}`;
    throw new Error(error);
  }
  return body;
}
