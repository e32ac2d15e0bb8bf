const x: number = 3;
console.log("cli", x, process.argv.slice(2));
