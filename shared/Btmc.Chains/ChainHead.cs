using Btmc.Ledger;

namespace Btmc.Chains;

/// <summary>
/// The last committed block of a chain, and the log position the chain has consumed up to: <see cref="NextSequenceNumber"/>
/// in the event log named <see cref="LogId"/> (null for chains not sealed from an embedded log: Event Hubs, governance,
/// compute).
/// </summary>
public sealed record ChainHead(string ChainId, long Height, Hash32 BlockHash, long LeafCount, long NextSequenceNumber, long TotalEntries, string? LogId = null);
