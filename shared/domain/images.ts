/** The images local nodes accept (they all run the Linux node agent on this machine). */
export interface SupportedImage {
  imageReference: { publisher: string; offer: string; sku: string; version: string };
  nodeAgentSKUId: string;
  osType: 'linux' | 'windows';
  verificationType: 'verified' | 'unverified';
  capabilities?: string[];
}

export const SUPPORTED_IMAGES: readonly SupportedImage[] = [
  { imageReference: { publisher: 'canonical', offer: '0001-com-ubuntu-server-focal', sku: '20_04-lts', version: 'latest' }, nodeAgentSKUId: 'batch.node.ubuntu 20.04', osType: 'linux', verificationType: 'verified' },
  { imageReference: { publisher: 'canonical', offer: '0001-com-ubuntu-server-jammy', sku: '22_04-lts', version: 'latest' }, nodeAgentSKUId: 'batch.node.ubuntu 22.04', osType: 'linux', verificationType: 'verified' },
  { imageReference: { publisher: 'canonical', offer: 'ubuntu-24_04-lts', sku: 'server', version: 'latest' }, nodeAgentSKUId: 'batch.node.ubuntu 24.04', osType: 'linux', verificationType: 'verified' },
  { imageReference: { publisher: 'microsoft-azure-batch', offer: 'ubuntu-server-container', sku: '20-04-lts', version: 'latest' }, nodeAgentSKUId: 'batch.node.ubuntu 20.04', osType: 'linux', verificationType: 'verified' },
  { imageReference: { publisher: 'debian', offer: 'debian-11', sku: '11', version: 'latest' }, nodeAgentSKUId: 'batch.node.debian 11', osType: 'linux', verificationType: 'verified' },
  { imageReference: { publisher: 'debian', offer: 'debian-12', sku: '12', version: 'latest' }, nodeAgentSKUId: 'batch.node.debian 12', osType: 'linux', verificationType: 'verified' },
  { imageReference: { publisher: 'almalinux', offer: 'almalinux', sku: '8-gen1', version: 'latest' }, nodeAgentSKUId: 'batch.node.el 8', osType: 'linux', verificationType: 'unverified' },
  { imageReference: { publisher: 'almalinux', offer: 'almalinux', sku: '8-gen2', version: 'latest' }, nodeAgentSKUId: 'batch.node.el 8', osType: 'linux', verificationType: 'unverified', capabilities: ['Generation2VMImage'] },
];

export function isKnownNodeAgentSku(id: string): boolean {
  return SUPPORTED_IMAGES.some((i) => i.nodeAgentSKUId.toLowerCase() === id.toLowerCase());
}
