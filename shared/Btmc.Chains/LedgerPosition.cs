namespace Btmc.Chains;

/// <summary>Where a sealed event stands: its chain, its block's height and its leaf index in that block.</summary>
public sealed record LedgerPosition(string ChainId, long Height, long LeafIndex);
