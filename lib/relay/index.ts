export { ClientProxyRelay, type ClientProxyRelayOptions, type EventEmitterClient } from './client-proxy.relay';
export { BullMqRelay, type BullMqRelayOptions, type BullQueueLike } from './bullmq.relay';
