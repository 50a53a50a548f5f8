import { Controller, Get, Header } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { DoctorJobHealthIndicator } from 'doctor-job/health';
import { DoctorJobMetrics } from 'doctor-job/metrics';

@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly jobs: DoctorJobHealthIndicator,
    private readonly metrics: DoctorJobMetrics,
  ) {}

  /** 200 when the runner runs, the database answers and no job has waited over a minute; 503 otherwise. */
  @Get('health')
  @HealthCheck()
  check() {
    return this.health.check([() => this.jobs.isHealthy('jobs', { maxOldestDueAgeMs: 60_000 })]);
  }

  /** Prometheus metrics. */
  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  scrape() {
    return this.metrics.registry.metrics();
  }
}
