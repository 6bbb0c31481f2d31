/**
 * The benchmark payload: a Buildbot-like build with properties and ten steps, the
 * same values and Python types as `bench_pb.py`'s `build_lean()` (text keys, int
 * results, float timestamps, lists of text), so both sides echo the same bytes.
 */
export function buildLean(nSteps = 10): Record<string, unknown> {
  const t0 = 1700000000.25;
  const names = [
    'git',
    'configure',
    'compile',
    'test-unit',
    'test-integration',
    'lint',
    'docs',
    'package',
    'upload',
    'cleanup',
  ];
  return {
    buildid: 4242,
    number: 17,
    builder: 'linux-x86_64',
    results: 0,
    started_at: t0,
    complete_at: t0 + nSteps * 12.5,
    properties: {
      branch: 'main',
      revision: '3f9c2e7d1b0a4c5e6f708192a3b4c5d6e7f80912',
      buildnumber: 17,
      workername: 'worker-1',
    },
    steps: Array.from({ length: nSteps }, (_, i) => ({
      name: names[i % names.length],
      results: i !== 5 ? 0 : 1,
      started_at: t0 + i * 12.5,
      complete_at: t0 + i * 12.5 + 11.75,
      urls: i % 3 === 0 ? [`https://ci.example.org/r/${i}`] : [],
      logs: ['stdio'],
    })),
  };
}
