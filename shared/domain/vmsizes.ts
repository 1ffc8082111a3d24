/** Common Azure VM sizes with their cores and memory; names match case-insensitively. */
export interface VmSize {
  name: string;
  cores: number;
  memoryMiB: number;
}

const SIZES: VmSize[] = [
  ['Standard_A1', 1, 1792], ['Standard_A2', 2, 3584], ['Standard_A3', 4, 7168], ['Small', 1, 1792], ['Medium', 2, 3584], ['Large', 4, 7168],
  ['Standard_A1_v2', 1, 2048], ['Standard_A2_v2', 2, 4096], ['Standard_A4_v2', 4, 8192], ['Standard_A8_v2', 8, 16384],
  ['Standard_A2m_v2', 2, 16384], ['Standard_A4m_v2', 4, 32768], ['Standard_A8m_v2', 8, 65536],
  ['Standard_D1_v2', 1, 3584], ['Standard_D2_v2', 2, 7168], ['Standard_D3_v2', 4, 14336], ['Standard_D4_v2', 8, 28672], ['Standard_D5_v2', 16, 57344],
  ['Standard_D11_v2', 2, 14336], ['Standard_D12_v2', 4, 28672], ['Standard_D13_v2', 8, 57344], ['Standard_D14_v2', 16, 114688],
  ['Standard_D2_v3', 2, 8192], ['Standard_D4_v3', 4, 16384], ['Standard_D8_v3', 8, 32768], ['Standard_D16_v3', 16, 65536],
  ['Standard_D2s_v3', 2, 8192], ['Standard_D4s_v3', 4, 16384], ['Standard_D8s_v3', 8, 32768], ['Standard_D16s_v3', 16, 65536], ['Standard_D32s_v3', 32, 131072],
  ['Standard_D2ds_v4', 2, 8192], ['Standard_D4ds_v4', 4, 16384], ['Standard_D2s_v4', 2, 8192], ['Standard_D4s_v4', 4, 16384],
  ['Standard_D2s_v5', 2, 8192], ['Standard_D4s_v5', 4, 16384], ['Standard_D8s_v5', 8, 32768], ['Standard_D2ads_v5', 2, 8192],
  ['Standard_E2s_v3', 2, 16384], ['Standard_E4s_v3', 4, 32768], ['Standard_E8s_v3', 8, 65536],
  ['Standard_F1', 1, 2048], ['Standard_F2', 2, 4096], ['Standard_F4', 4, 8192], ['Standard_F2s_v2', 2, 4096], ['Standard_F4s_v2', 4, 8192], ['Standard_F8s_v2', 8, 16384],
  ['Standard_NC6', 6, 57344], ['Standard_NC6s_v3', 6, 114688], ['Standard_H8', 8, 57344], ['Standard_H16r', 16, 114688], ['Standard_HB120rs_v3', 120, 458752],
].map(([name, cores, memoryMiB]) => ({ name: name as string, cores: cores as number, memoryMiB: memoryMiB as number }));

const BY_NAME = new Map(SIZES.map((s) => [s.name.toLowerCase(), s]));

export function findVmSize(name: string): VmSize | undefined {
  return BY_NAME.get(name.toLowerCase());
}

export function allVmSizes(): readonly VmSize[] {
  return SIZES;
}
