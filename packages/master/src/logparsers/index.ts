import { AutomakeParser } from './automake.js';
import { CargoTestParser } from './cargo.js';
import { CTestParser } from './ctest.js';
import { GoTestJsonParser, GoTestParser } from './go.js';
import { JUnitXmlParser } from './junit.js';
import { NodeSpecParser } from './node-spec.js';
import { PytestParser } from './pytest.js';
import type { TestParserOptions, TestResultParser } from './summary.js';
import { TapParser } from './tap.js';
import { UnittestParser } from './unittest.js';

export * from './automake.js';
export * from './cargo.js';
export * from './ctest.js';
export * from './go.js';
export * from './junit.js';
export * from './lines.js';
export * from './node-spec.js';
export * from './observe.js';
export * from './pytest.js';
export * from './python-regex.js';
export * from './summary.js';
export * from './tap.js';
export * from './unittest.js';
export * from './warnings.js';

/** The formats `testResultParser` reads, e.g. to check a format name given as text. */
export const TEST_OUTPUT_FORMATS = [
  'tap',
  'junit',
  'node-spec',
  'pytest',
  'unittest',
  'go',
  'go-json',
  'automake',
  'ctest',
  'cargo',
] as const;

export type TestOutputFormat = (typeof TEST_OUTPUT_FORMATS)[number];

/** A parser for a test runner's output format, for steps configured by name. */
export function testResultParser(format: TestOutputFormat, options?: TestParserOptions): TestResultParser {
  switch (format) {
    case 'tap':
      return new TapParser(options);
    case 'junit':
      return new JUnitXmlParser(options);
    case 'node-spec':
      return new NodeSpecParser(options);
    case 'pytest':
      return new PytestParser(options);
    case 'unittest':
      return new UnittestParser(options);
    case 'go':
      return new GoTestParser(options);
    case 'go-json':
      return new GoTestJsonParser(options);
    case 'automake':
      return new AutomakeParser(options);
    case 'ctest':
      return new CTestParser(options);
    case 'cargo':
      return new CargoTestParser(options);
  }
}
