namespace Btmc.Ledger.Dpos;

/// <summary>
/// A registered block producer and the votes behind it when a round's producers are drawn: the sum of the holdings of
/// every token holder whose current vote names it.
/// </summary>
/// <param name="ProducerId">The name written into block headers (1..255 UTF-8 bytes).</param>
/// <param name="PublicKey">The key its blocks are signed with; a header's key id is its thumbprint.</param>
/// <param name="Votes">Vote weight, non-negative.</param>
public sealed record ProducerCandidate(string ProducerId, EcPublicJwk PublicKey, long Votes);
