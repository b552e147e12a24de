import { growthPerHour, slope, warmPart } from './fit';

describe('the growth of a soak series', () => {
  test('is the slope of a straight line, per hour', () => {
    const points = [0, 60, 120, 180].map((t) => ({ t, value: 10 + t / 60 }));
    expect(slope(points)).toBeCloseTo(1 / 60);
    expect(growthPerHour(points, 0)).toBeCloseTo(60);
  });

  test('is zero for a flat series that only moves while warming up', () => {
    const points = [
      { t: 0, value: 1 },
      { t: 60, value: 50 },
      ...[120, 180, 240, 300, 360].map((t) => ({ t, value: 50 })),
    ];
    expect(growthPerHour(points, 0.2)).toBe(0);
  });

  test('leaves out the first part of the span', () => {
    const points = [0, 50, 100].map((t) => ({ t, value: t }));
    expect(warmPart(points, 0.2).map((p) => p.t)).toEqual([50, 100]);
  });

  test('is zero without two points to draw a line through', () => {
    expect(slope([{ t: 1, value: 5 }])).toBe(0);
    expect(slope([])).toBe(0);
  });
});
