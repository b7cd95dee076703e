using System.Globalization;
using System.Text;
using Btmc.Ledger;

namespace Btmc.Compute.Mining;

/// <summary>Shares of one job in a submission: the job header (hex) and the nonces found for it.</summary>
public sealed record JobShares(string Header, IReadOnlyList<ulong> Nonces);

/// <summary>
/// What a contributor sends (docs/compute.md, "Submissions"): shares of one or more jobs, and whether it is a
/// heartbeat, signed with the contributor's registered key (ES256 or ES256K, r‖s) over SHA-256 of the canonical bytes:
/// <code>
/// BTMC-SHARES-1\n
/// {contributor}\n
/// {sent, Unix seconds}\n
/// {1 for a heartbeat, else 0}\n
/// {job header hex}:{nonce hex, 16 digits},{nonce}…\n     (one line per job, in the order sent)
/// </code>
/// </summary>
public sealed record ShareSubmission(string Contributor, long Sent, bool Heartbeat, IReadOnlyList<JobShares> Jobs, string Signature)
{
    /// <summary>Most nonces one submission may carry.</summary>
    public const int MaxNonces = 10_000;

    public byte[] CanonicalBytes()
    {
        var text = new StringBuilder("BTMC-SHARES-1\n")
            .Append(Contributor).Append('\n')
            .Append(Sent.ToString(CultureInfo.InvariantCulture)).Append('\n')
            .Append(Heartbeat ? '1' : '0').Append('\n');
        foreach (var job in Jobs)
        {
            text.Append(job.Header).Append(':').AppendJoin(',', job.Nonces.Select(n => n.ToString("x16", CultureInfo.InvariantCulture))).Append('\n');
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    public Hash32 Digest => Hash32.Compute(CanonicalBytes());

    /// <summary>Whether the signature verifies with the contributor's key.</summary>
    public bool IsSignedBy(EcPublicJwk key)
    {
        byte[] signature;
        try
        {
            signature = Convert.FromBase64String(Signature);
        }
        catch (FormatException)
        {
            return false;
        }

        return BlockSignature.Verify(key, Digest, signature);
    }
}
