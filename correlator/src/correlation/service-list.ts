// The services a trace, correlation or circuit lists: each once, the first MAX_SERVICES seen. A
// circuit lists the services of its data, a few; where service.name carries a pod or instance id
// there are thousands, and the list, checked for each datum, grew as fast as the data.

export const MAX_SERVICES = 64;

/** Adds a service once, up to MAX_SERVICES. */
export function addService(services: string[], service: string): void {
  if (services.length < MAX_SERVICES && !services.includes(service)) services.push(service);
}
