// `doctor-job/metrics`: needs prom-client. The main entry point never loads it.
export { DOCTOR_JOB_METRICS_REGISTRY, DoctorJobMetrics } from './doctor-job.metrics';
