// Waiting for a state the test cannot be told about, such as a background poll or a slot given
// back. It is not a timed assertion: it polls about 10 s at most, then fails naming what it waited for.
export async function until<T>(probe: () => Promise<T | null>, what: string): Promise<T> {
  for (let i = 0; i < 1000; i++) {
    const v = await probe();
    if (v !== null) return v;
    await new Promise(r => setTimeout(r, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}
