// How a build tells its observers (the ETA publisher, the metrics recorder) where its steps
// are. Times are seconds on the build's clock.

export interface ProgressStep {
  readonly stepid: number;
  /** As recorded (unique within the build: a second "compile" is "compile_2"). */
  readonly name: string;
  /** As the factory names it. */
  readonly factoryName: string;
}

/** What a step that did run did; a step stopped or skipped before its work began has none. */
export interface StepWork {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly outputLines: number;
}

export interface BuildProgressListener {
  /** The step's own work begins (after its locks, if any). */
  stepStarted(step: ProgressStep, at: number): void;
  /** The running step has written `lines` complete output lines so far. */
  stepOutput(stepName: string, lines: number, at: number): void;
  /** The step is over; `work` is null when it never began its work. */
  stepEnded(step: ProgressStep, work: StepWork | null): void;
  /** A step the build does not run at all (an earlier one halted it, or it was stopped). */
  stepSkipped(factoryName: string): void;
}

/** One listener that tells each of `listeners`, in order. */
export function allOf(listeners: readonly BuildProgressListener[]): BuildProgressListener {
  return {
    stepStarted: (step, at) => {
      for (const l of listeners) l.stepStarted(step, at);
    },
    stepOutput: (stepName, lines, at) => {
      for (const l of listeners) l.stepOutput(stepName, lines, at);
    },
    stepEnded: (step, work) => {
      for (const l of listeners) l.stepEnded(step, work);
    },
    stepSkipped: (factoryName) => {
      for (const l of listeners) l.stepSkipped(factoryName);
    },
  };
}
