using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Btmc.Epcis;

namespace Btmc.Supply.Capture;

/// <summary>
/// The partition key an accepted event travels under on the supply-events stream, so that one lot's events stay in
/// order (docs/storage-layout.md, "Partitions and chains"). The key is the lot of the event's primary object:
/// <list type="number">
/// <item>the primary object is the <c>parentID</c> when there is one (an aggregation travels with its container),
/// else the first input (a transformation travels with what it consumes), else the first identifier the event names;</item>
/// <item>its lot is its class-level GS1 key: <c>01/{GTIN}/10/{lot}</c> for a GTIN with a batch/lot, the asset type
/// for a GRAI; any other identifier (SSCC, GIAI, GLN, a private URI) is its own lot. A serialised GTIN (SGTIN) names
/// no lot: its key is <c>01/{GTIN}/s{b}</c>, where b is one hex digit of SHA-256(serial), so each item's events
/// stay in order while a product's items spread over 16 keys (one key per product would put a whole product line on
/// one partition, and one key per item would make a send per item).</item>
/// </list>
/// An event naming no identifier travels under its own ledger id; a key longer than <see cref="MaxLength"/> as
/// <c>sha256:</c> and the hex digest of its UTF-8 bytes. On Event Hubs the hub maps the key to a partition;
/// the embedded log uses <see cref="LogPartition"/>.
/// </summary>
public static class SupplyPartitionKey
{
    private const string DigitalLinkRoot = "https://id.gs1.org/";

    /// <summary>Event Hubs takes partition keys of at most 128 characters; a longer lot travels as its SHA-256.</summary>
    public const int MaxLength = 128;

    public static string Of(EventTerms terms, string eventId)
    {
        var primary = terms.Parent
            ?? terms.Epcs.FirstOrDefault(e => (e.Roles & EpcRoles.Input) != 0).Epc
            ?? (terms.Epcs.Count > 0 ? terms.Epcs[0].Epc : null);
        var key = primary is null ? eventId : LotOf(primary);
        return key.Length <= MaxLength ? key : "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
    }

    /// <summary>The class-level key of a canonical identifier (see the type's remarks).</summary>
    public static string LotOf(string canonicalEpc)
    {
        if (!canonicalEpc.StartsWith(DigitalLinkRoot, StringComparison.Ordinal))
        {
            return canonicalEpc;
        }

        var path = canonicalEpc.AsSpan(DigitalLinkRoot.Length);
        Span<Range> parts = stackalloc Range[5];
        var count = path.Split(parts, '/');
        if (count >= 2 && path[parts[0]] is "01")
        {
            if (count >= 4 && path[parts[2]] is "10")
            {
                return string.Concat("01/", path[parts[1]], "/10/", path[parts[3]]);
            }

            if (count >= 4 && path[parts[2]] is "21")
            {
                Span<byte> digest = stackalloc byte[32];
                SHA256.HashData(Encoding.UTF8.GetBytes(path[parts[3]].ToString()), digest);
                return string.Concat("01/", path[parts[1]], "/s", "0123456789abcdef".AsSpan(digest[0] & 15, 1));
            }

            return string.Concat("01/", path[parts[1]]);
        }

        if (count >= 2 && path[parts[0]] is "8003" && path[parts[1]].Length > 14)
        {
            return string.Concat("8003/", path[parts[1]][..14]);
        }

        return canonicalEpc;
    }

    /// <summary>The embedded log's partition of a key: the first four bytes of SHA-256(key), big-endian, modulo the count.</summary>
    public static int LogPartition(string partitionKey, int partitions)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(partitionKey), digest);
        return (int)(BinaryPrimitives.ReadUInt32BigEndian(digest) % (uint)partitions);
    }
}
