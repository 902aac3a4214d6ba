export declare function nsfwjsArtifacts(): Promise<{ modelJson: unknown; weightData: Buffer }>;
