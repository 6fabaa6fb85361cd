using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Tideflow.Web.Features.Access;

/// <summary>Names the API and declares the personal-token scheme, so the reference page can send a token.</summary>
internal sealed class ApiDocument : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Tideflow API",
            Version = "v1",
            Description = "Personal API tokens (Profile → API tokens) authenticate as `Authorization: Bearer tf_…`. " +
                          "Every call sees only the data in its user's scope; errors are RFC 9457 problem details.",
        };
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes["ApiToken"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "A personal API token, tf_…",
        };
        document.Security ??= [];
        document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("ApiToken", document)] = [] });
        return Task.CompletedTask;
    }
}
