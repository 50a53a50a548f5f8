export { ClientProxyRelay, type ClientProxyRelayOptions, type EventEmitterClient } from './client-proxy.relay';
export { BullMqRelay, type BullMqRelayOptions, type BullQueueLike } from './bullmq.relay';
export {
  JETSTREAM_RELAY_HEADERS,
  JetStreamRelay,
  JetStreamRelayError,
  type JetStreamPubAck,
  type JetStreamRelayOptions,
  type JetStreamServers,
} from './jetstream.relay';
