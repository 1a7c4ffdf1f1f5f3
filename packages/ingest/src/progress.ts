export interface ImportProgress {
  phase: string;
  done: number;
  total: number;
  imported: number;
  duplicates: number;
  failed: number;
}

export type ProgressListener = (progress: ImportProgress) => void;

export interface ImportSummary {
  importRunId: string;
  projectId: string;
  total: number;
  imported: number;
  duplicates: number;
  failed: number;
  /** Files not imported, with the reason. */
  errors: { file: string; reason: string }[];
  /** Files whose import label differed from the item's existing label, which was kept. */
  labelConflicts: { file: string; reason: string }[];
}
