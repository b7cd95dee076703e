using Btmc.Epcis;
using Microsoft.AspNetCore.Mvc;

namespace Btmc.Functions;

/// <summary>RFC 9457 problem details, with the offending members listed under <c>errors</c>.</summary>
public static class Problems
{
    public static IResult Of(int status, string title, string detail, IReadOnlyList<EpcisProblem>? errors = null)
    {
        var problem = new ProblemDetails
        {
            Status = status,
            Title = title,
            Detail = detail,
            Type = $"https://btmc.dev/problems/{title.ToLowerInvariant().Replace(' ', '-')}",
        };
        if (errors is { Count: > 0 })
        {
            problem.Extensions["errors"] = errors
                .Select(e => new { eventIndex = e.EventIndex, pointer = e.Pointer, detail = e.Detail })
                .ToList();
        }

        return Results.Problem(problem);
    }

    /// <summary>A problem about one member of the request, named in the <c>field</c> extension.</summary>
    public static IResult OfField(int status, string title, string detail, string field)
    {
        var problem = new ProblemDetails
        {
            Status = status,
            Title = title,
            Detail = detail,
            Type = $"https://btmc.dev/problems/{title.ToLowerInvariant().Replace(' ', '-')}",
        };
        problem.Extensions["field"] = field;
        return Results.Problem(problem);
    }

    public static IResult NotFound(string detail) => Of(StatusCodes.Status404NotFound, "Not found", detail);
}
