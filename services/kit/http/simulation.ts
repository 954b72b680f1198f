/**
 * Error-simulation endpoints: each always answers one error status, so clients can exercise their error
 * handling. Each service mounts them only when ENABLE_ERROR_SIMULATION is true.
 */
import { problem } from './problem.ts';
import { route, type RouteSpec } from './routes.ts';

export function simulationRoutes(): RouteSpec[] {
  const simulate = (path: string, summary: string, error: () => Error) =>
    route({
      method: 'get',
      path,
      summary,
      tags: ['simulation'],
      access: 'public',
      handler: () => {
        throw error();
      },
    });
  return [
    simulate('/bad-request', 'Always answers 400', () => problem.badRequest('Simulated bad request')),
    simulate('/unprocessable', 'Always answers 422', () =>
      problem.unprocessable('Simulated validation failure', [{ location: 'body.example', message: 'simulated' }]),
    ),
    // A plain Error, so this exercises the path that hides internals behind a generic 500.
    simulate('/server-error', 'Always answers 500', () => new Error('simulated internal failure with secret details')),
  ];
}
