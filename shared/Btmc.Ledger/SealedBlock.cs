namespace Btmc.Ledger;

/// <summary>A block: its header, the producer's P1363 signature over the header hash, and the leaf hashes the Merkle root covers.</summary>
public sealed record SealedBlock(BlockHeader Header, byte[] Signature, IReadOnlyList<Hash32> LeafHashes);
