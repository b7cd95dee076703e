using Btmc.Ledger;

namespace Btmc.Supply;

/// <summary>The last committed block of a chain, and the log position the chain has consumed up to.</summary>
public sealed record ChainHead(string ChainId, long Height, Hash32 BlockHash, long LeafCount, long NextSequenceNumber, long TotalEntries);
