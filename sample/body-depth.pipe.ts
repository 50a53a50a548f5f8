import { BadRequestException, Injectable, type ArgumentMetadata, type PipeTransform } from '@nestjs/common';

/** The sample's bodies are flat; anything nested deeper than this is refused before validation. */
export const MAX_BODY_DEPTH = 32;

/**
 * Refuses a request body nested deeper than MAX_BODY_DEPTH levels with a 400. Runs before
 * ValidationPipe, whose class-transformer recursion overflows Node's stack (a 500) on bodies a
 * few thousand levels deep. Counts without recursion, so any depth is safe to look at.
 */
@Injectable()
export class BodyDepthPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'body' || value === null || typeof value !== 'object') return value;
    const stack: [unknown, number][] = [[value, 1]];
    while (stack.length > 0) {
      const [node, depth] = stack.pop()!;
      if (depth > MAX_BODY_DEPTH) throw new BadRequestException(`The request body is nested deeper than ${MAX_BODY_DEPTH} levels.`);
      for (const child of Object.values(node as object)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
    return value;
  }
}
