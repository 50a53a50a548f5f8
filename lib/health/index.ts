// `doctor-job/health`: needs @nestjs/terminus. The main entry point never loads it.
export { DoctorJobHealthIndicator, type DoctorJobHealthOptions } from './doctor-job.health';
