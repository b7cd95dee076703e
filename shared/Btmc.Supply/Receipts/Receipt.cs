using System.Text.Json;
using System.Text.Json.Serialization;
using Btmc.Ledger;

namespace Btmc.Supply.Receipts;

/// <summary>
/// A self-contained proof that an event is in the ledger (docs/ledger-format.md, "Receipt"): the event's identity
/// (its CBV 2.0 event hash ID), its hash, the partner that captured it, its position, the signed block header with the
/// producer's public key, and the Merkle inclusion proof from the event's leaf to the header's root. <see cref="Event"/>
/// is the event as stored, so its hash and its identity can be checked too.
/// </summary>
public sealed record Receipt(
    string Format,
    string EventId,
    string EventHash,
    string Partner,
    string ChainId,
    long Height,
    long LeafIndex,
    ReceiptHeader BlockHeader,
    string BlockHash,
    IReadOnlyList<string> InclusionProof,
    ReceiptSignature Signature,
    EcPublicJwk ProducerKey,
    JsonElement? Event)
{
    public const string CurrentFormat = "btmc-receipt/2";

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static Receipt FromJson(string json) =>
        JsonSerializer.Deserialize<Receipt>(json, JsonOptions) ?? throw new JsonException("The receipt is empty.");
}

/// <summary>The block header: <see cref="Encoded"/> (base64 of the canonical bytes) is what is hashed and signed; the
/// other members are the same values spelled out for people, and a verifier checks that they agree.</summary>
public sealed record ReceiptHeader(
    int Version,
    string ChainId,
    long Height,
    string PreviousHash,
    string MerkleRoot,
    long LeafCount,
    DateTimeOffset SlotTime,
    string ProducerId,
    string KeyId,
    string Encoded)
{
    public static ReceiptHeader From(BlockHeader header) => new(
        header.Version, header.ChainId, header.Height, header.PreviousHash.ToHex(), header.MerkleRoot.ToHex(), header.LeafCount,
        header.SlotTime, header.ProducerId, header.KeyId, Convert.ToBase64String(header.Encode()));
}

/// <summary>The producer's signature over the block hash: raw r||s, base64.</summary>
public sealed record ReceiptSignature(string Algorithm, string Value);
