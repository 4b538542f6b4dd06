import { describe, expect, it } from 'vitest';
import { firstPage, hasPrevious, nextPage, pageNumber, previousPage } from '../src/lib/cursorStack';

describe('cursor stack', () => {
  it('walks forward and back without offsets', () => {
    let stack = firstPage;
    expect(pageNumber(stack)).toBe(1);
    expect(hasPrevious(stack)).toBe(false);
    stack = nextPage(stack, 'c1');
    stack = nextPage(stack, 'c2');
    expect(stack.current).toBe('c2');
    expect(pageNumber(stack)).toBe(3);
    stack = previousPage(stack);
    expect(stack.current).toBe('c1');
    stack = previousPage(stack);
    expect(stack.current).toBeUndefined();
    expect(hasPrevious(stack)).toBe(false);
    expect(previousPage(stack)).toBe(stack);
  });
});
