import { describe, expect, it } from 'vitest';
import { objectiveOf } from '../src/resolvers/encoders.ts';

describe("an encoder's objective as the API shows it", () => {
  it('names the pretraining objective, and fine-tunings after it', () => {
    expect(objectiveOf({ objective: 'simclr', training: { images: 10 } })).toBe('simclr');
    expect(objectiveOf({})).toBeNull();
    expect(objectiveOf({ objective: 'ae', training: { fineTunes: [{}] } })).toBe('ae + fine-tuned');
    expect(objectiveOf({ objective: 'ae', training: { fineTunes: [{}, {}] } })).toBe(
      'ae + fine-tuned x2',
    );
    expect(objectiveOf({ training: { fineTunes: [{}] } })).toBe('unknown + fine-tuned');
  });
});
