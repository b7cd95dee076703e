namespace Btmc.Ledger;

/// <summary>The first problem found in a chain: the chain, the height of the offending block, and a human-readable reason.</summary>
public sealed record ChainFault(string ChainId, long Height, string Reason);
